"""Runs sent to a provider's batch API (``--batch``): cells go out as batch jobs, come back hours later, and are
collected into the store by whichever process looks next (see :mod:`workbench.batch.runner`)."""
