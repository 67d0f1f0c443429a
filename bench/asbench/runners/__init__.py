"""One module per benchmark, each with main(argv)."""
