"""Realtime transport: websocket consumers, their routing and event schemas."""
