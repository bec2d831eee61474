from .report import TransparencyReport

__all__ = ["TransparencyReport"]
