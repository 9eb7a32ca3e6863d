"""HTTP layer: the only server code that imports FastAPI/Starlette."""
