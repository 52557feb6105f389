"""The data map and the privacy notice generated from it: one idea, since every data map version
publishes a notice version (`publishing.py`) and the notice is read only from the map."""
