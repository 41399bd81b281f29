import HeapscanCLI

HeapscanMain.run()
