"""The error of the reconstruction model.

Layer: generate (imports only lpj_report.cli_errors). Raised by the model, latent-structure and
missing-answer readers of :mod:`lpj_report.generate` when ``data/reconstruction`` does not fit the
codebook; :mod:`lpj_report.generate.model` re-exports it.
"""

from lpj_report.cli_errors import InputError


class ModelError(InputError):
    """The reconstruction model does not fit the codebook."""
