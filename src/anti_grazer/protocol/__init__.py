"""OAuth 2.0 core: framework-free parsing, rules and orchestration over typed ports."""
