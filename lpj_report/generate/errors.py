"""The error of the reconstruction model.

Layer: generate (imports nothing from lpj_report). Raised by the model, latent-structure and
missing-answer readers of :mod:`lpj_report.generate` when ``data/reconstruction`` does not fit the
codebook; :mod:`lpj_report.generate.model` re-exports it.
"""


class ModelError(ValueError):
    """The reconstruction model does not fit the codebook."""
