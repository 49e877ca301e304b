from teamspro.cli import main

main()
