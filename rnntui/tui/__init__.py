"""The Textual playground. Only this package (and the CLI) imports textual, plotext or rich."""
