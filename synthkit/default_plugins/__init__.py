"""Built-in plugins: the same hooks a third-party plugin uses."""
