"""Activation: putting profiles to work, always through the privacy layer's consent filter and masking.

``export_audience`` writes the contactable persons of a profile filter to a CSV or Parquet file for one
purpose; later activation paths (segment syncs, webhooks, recommendations) go through the same seam,
:func:`huaxiang.privacy.audience.audience_contacts`.
"""

from huaxiang.activation.audience import AudienceExport, export_audience, select_persons

__all__ = ["AudienceExport", "export_audience", "select_persons"]
