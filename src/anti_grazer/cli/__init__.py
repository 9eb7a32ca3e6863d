"""The ``anti-grazer`` command line (click), one module per noun."""
