"""Envoxy's internal test kit: private servers, a fault-injection proxy and shared helpers.

Not a published distribution: the root ``conftest.py`` puts ``testing/`` on ``sys.path``
and loads :mod:`envoxy_testing.plugin`, whose fixtures every test of the workspace can
take. Guide: ``testing/README.md``.

=========================  ==============================================================
module                     holds
=========================  ==============================================================
``faultproxy``             :class:`FaultProxy`: pass, freeze, drop, reset, refuse TCP
``servers``                :class:`ServerProcess`, :class:`PrivateRedis`,
                           :class:`PrivateMosquitto`
``redis_sentinel``         :class:`RedisSentinelSet`: master, replicas, 3 sentinels
``redis_cluster``          :class:`PrivateRedisCluster`: 3 masters via redis-cli
``postgres``               :class:`PrivatePostgres` and its session template
``pgbouncer``              :class:`PrivatePgBouncer` in front of a private PostgreSQL
``tls``                    throw-away CA, server and client certificates
``network``                ``free_port``, ``port_accepts``, ``wait_until``, ``retry_until``
``zmq_peer``               :class:`ReplyPeer`: a real ZeroMQ REP peer on loopback
``exports``                ``all_problems``: the one ``__all__`` check
``interpreter``            ``run_python``: code in a fresh interpreter, clean environment,
                           optionally without some Envoxy distributions
``repo``                   ``REPO_ROOT``, ``tool_module``: import a module of ``tools/``
``forking``                ``in_child``: run a function in a child forked by ``os.fork``
                           or from C as uWSGI does (``c_fork``: no at-fork hooks)
``deprecation``            ``assert_old_path_works``: an old import path, its object and
                           its one warning
``threads``                ``all_at_once``: one function in many threads started together
``pgfaults``               :class:`PgFaultScene`: the shared steps of the PostgreSQL
                           fault tests (pgsqlc and ORM)
``plugin``                 the pytest fixtures
=========================  ==============================================================
"""
