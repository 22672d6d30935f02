"""The catalogue's parts: one module per UI part (``common``, ``stats``, ``results``, …), each with an ``EN`` and a
``ZH`` dict whose keys start with the module's name. Every module here is loaded by
:func:`workbench.i18n.catalogue`; see :mod:`workbench.i18n` for how to add one."""
