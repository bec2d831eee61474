from .decision import Decision, DecisionVote
from .notice import Appeal, Notice
from .sanction import RestrictionCheck, Sanction
from .statement import PublicStatement

__all__ = ["Appeal", "Decision", "DecisionVote", "Notice", "PublicStatement", "RestrictionCheck", "Sanction"]
