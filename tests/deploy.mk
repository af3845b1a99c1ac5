# owner: deploy
