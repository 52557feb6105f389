"""The public trust centre (promises with live proof, statements, feed) and the risk register."""
