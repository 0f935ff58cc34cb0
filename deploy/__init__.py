"""Running Lodestar for a team: PostgreSQL, several dashboard replicas and HAProxy
in front of them. `make team` (deploy/team.py) starts all three on one machine;
README "Deploy for a team" says how the same parts go on real servers."""
