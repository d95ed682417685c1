"""The video-rooms platform (Livestorm Nexus's API): rooms, recordings, booking pages and
contacts with their events pulled into the workspace analytics, and its signed webhooks."""
