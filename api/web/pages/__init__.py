"""The web pages, one module per portal: ``common`` (login, language, inbox, jobs), ``sme``, ``firm``, ``bank``,
``office`` and ``provider``."""
