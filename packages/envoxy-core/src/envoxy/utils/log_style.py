"""ANSI terminal styles for log text (``Log.style``), kept from the original envoxy.

``LogStyle.apply("OK", LogStyle.GREEN_FG)`` wraps text in escape codes. The ``json``
log format and the ``pretty`` format on a non-terminal remove them again
(:func:`strip_styles`), so styled text never reaches a log file.
"""

import re

__all__ = ["LogStyle", "strip_styles"]


class LogStyle:
    """SGR codes (as strings) and helpers to apply them."""

    # Reset
    RESET = "0"

    # Decorations
    BOLD = "1"
    UNDERLINE = "4"

    # Foreground colours
    DEFAULT_FG = "39"
    BLACK_FG = "30"
    RED_FG = "31"
    GREEN_FG = "32"
    YELLOW_FG = "33"
    BLUE_FG = "34"
    MAGENTA_FG = "35"
    CYAN_FG = "36"
    LGRAY_FG = "37"
    DGRAY_FG = "90"
    LRED_FG = "91"
    LGREEN_FG = "92"
    LYELLOW_FG = "93"
    LBLUE_FG = "94"
    LMAGENTA_FG = "95"
    LCYAN_FG = "96"
    WHITE_FG = "97"

    # Background colours
    DEFAULT_BG = "49"
    BLACK_BG = "40"
    RED_BG = "41"
    GREEN_BG = "42"
    YELLOW_BG = "43"
    BLUE_BG = "44"
    MAGENTA_BG = "45"
    CYAN_BG = "46"
    LGRAY_BG = "47"
    DGRAY_BG = "100"
    LRED_BG = "101"
    LGREEN_BG = "102"
    LYELLOW_BG = "103"
    LBLUE_BG = "104"
    LMAGENTA_BG = "105"
    LCYAN_BG = "106"
    WHITE_BG = "107"

    # Per-level patterns
    EMERGENCY = "4;31"
    ALERT = "4;31"
    CRITICAL = "4;35"
    ERROR = "4;35"
    WARNING = "4;35"
    NOTICE = "4;36"
    INFO = "4;37"
    DEBUG = "4;33"
    TRACE = "4;32"
    VERBOSE = "4;32"

    @staticmethod
    def generate(styles: str | list[str]) -> str:
        """Return the escape sequence for one code (``"31"``) or several (``["1", "31"]``)."""
        return "\033[{}m".format(styles if isinstance(styles, str) else ";".join(styles))

    @staticmethod
    def apply(text: str | None, styles: str | list[str] = DEFAULT_FG) -> str | None:
        """Return ``text`` wrapped in ``styles`` and a reset; ``None`` stays ``None``."""
        if text is None:
            return None
        return f"{LogStyle.generate(styles)}{text}{LogStyle.generate(LogStyle.RESET)}"


def strip_styles(text: str) -> str:
    """Return ``text`` without ANSI escape sequences."""
    if "\033" not in text:
        return text
    return _ANSI_SEQUENCE.sub("", text)


_ANSI_SEQUENCE = re.compile(r"\033\[[0-9;?]*[A-Za-z]")
