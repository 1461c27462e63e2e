from readers.cli import main

main()
