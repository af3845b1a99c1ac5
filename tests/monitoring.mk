# owner: monitoring
