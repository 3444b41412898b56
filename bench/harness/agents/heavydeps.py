"""Stands in for a heavy dependency tree: importing it takes about 1.5 s."""
import time

time.sleep(1.5)
