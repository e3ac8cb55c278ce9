from latentkit.cli import main

main()
