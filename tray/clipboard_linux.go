package tray

// clipboardHelp is what a failed copy tells the person: atotto/clipboard
// needs wl-copy, xclip or xsel on Linux.
const clipboardHelp = "install xclip or wl-clipboard"
