import KilnCommands

await KilnCommand.runFromCommandLine()
