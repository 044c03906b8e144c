import KilnCommands

await KilnCommand.main()
