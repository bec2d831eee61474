from django.db import models


class ReportState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "Waiting for a second member's review"
    APPROVED = "approved", "Reviewed, waiting for an admin to publish"
    PUBLISHED = "published", "Published"
