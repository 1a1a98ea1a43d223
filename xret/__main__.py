from xret.cli import main

main()
