"""Processes: the supervisor that runs Rasa, the action server and the gateway;
the Rasa environment and training; how the gateway is served (uvicorn)."""
