"""`tg.viz`: computation-graph drawing with graphviz."""
