"""Schemathesis hooks for the API tests: SDP bodies (WebRTC offers, application/sdp) are text."""
import schemathesis

schemathesis.serializer.alias("application/sdp", "text/plain")
