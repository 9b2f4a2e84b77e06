import Foundation
import HostCommands
import Testing

/// The free-disk probe's line, read from what the host's df prints: run here by /bin/sh, with a df
/// of the test's own (a shell function, which the shell finds before any df on PATH) where the
/// shape of its output matters. A function, not a file: a file written and executed while another
/// test forks could fail with "text file busy".
@Suite struct FreeDiskTests {
    /// Runs `script` with `fakeDF` (a shell function body) as `df` when given; returns stdout.
    func run(_ script: ShellScript, fakeDF: String? = nil) throws -> String {
        try localShellOutput((fakeDF.map { "df() {\n\($0)\n}\n" } ?? "") + script.text)
    }

    @Test func theRealDfIsRead() throws {
        let line = try run(FreeDisk.script("/"))
        let disk = try #require(FreeDisk.parse(line.split(separator: "\n").first.map(String.init)), "\(line)")
        #expect(disk.mount == "/" && disk.freeBytes >= 0)
    }

    /// A mount point with spaces is the disk's whole mount point (awk's `$6` alone kept "/mnt/my").
    @Test func aMountPointWithSpacesIsKeptWhole() throws {
        let df = #"printf 'Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sdb1 2000 1000 1000 50%% /mnt/my  bot disk\n'"#
        #expect(try run(FreeDisk.script("/mnt/my  bot disk/x"), fakeDF: df) == "1000 /mnt/my bot disk\n")
        #expect(try run(FreeDisk.script("x", label: "free"), fakeDF: df) == "free 1000 /mnt/my bot disk\n")
        #expect(FreeDisk.parse("1000 /mnt/my bot disk") == FreeDisk(mount: "/mnt/my bot disk", freeBytes: 1_024_000))
    }

    /// df that cannot read the path prints no line, never a line read as 0 bytes free somewhere.
    @Test func aPathDfCannotReadPrintsNoLine() throws {
        #expect(try run(FreeDisk.script("/nonexistent/botops-free-disk")) == "")
        #expect(try run(FreeDisk.script("/", label: "free"), fakeDF: "echo 'df: /: Permission denied' >&2; return 1") == "")
    }

    @Test func linesItCannotReadAreNil() {
        #expect(FreeDisk.parse(nil) == nil)
        #expect(FreeDisk.parse("") == nil)
        #expect(FreeDisk.parse("abc /x") == nil)
        #expect(FreeDisk.parse("1000") == nil)
        #expect(FreeDisk.parse("9223372036854775807 /huge") == nil)
    }
}
