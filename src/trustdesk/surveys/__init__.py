"""Trust surveys: validated items per trust dimension, responses as direct trust evidence, and
the leaders' trust gap (how far leaders' belief is from what customers say)."""
