"""Runs that outgrow one machine: the cells of a run on a Dask cluster (the [cluster] extra, ``distributed``)."""
