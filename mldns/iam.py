"""Project IAM resources for stack files: `from mldns import iam`."""

from mldns.resources.iam import Condition, ProjectIamBinding, ProjectIamMember

__all__ = ["Condition", "ProjectIamBinding", "ProjectIamMember"]
