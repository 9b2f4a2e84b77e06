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

    /// A device name with spaces (a CIFS share `//nas/bot backups`, a tmpfs mounted from "my dev")
    /// shifts every field: `$4` is then the used count, and a full disk read as roomy let a backup
    /// fill it. The counts are found left of the capacity column. (GNU df 9.1 prints such a line.)
    @Test func aDeviceNameWithSpacesIsReadByItsCapacityColumn() throws {
        let df = #"printf 'Filesystem 1024-blocks Used Available Capacity Mounted on\n//nas/bot backups 2000000 1999000 1000 100%% /mnt/bot backups\n'"#
        #expect(try run(FreeDisk.script("x", label: "free"), fakeDF: df) == "free 1000 /mnt/bot backups\n")
        let mountLikeACount = #"printf 'Filesystem 1024-blocks Used Available Capacity Mounted on\nmy dev 10240 0 10240 0%% /mnt/1 2 3 4%%\n'"#
        #expect(try run(FreeDisk.script("x"), fakeDF: mountLikeACount) == "10240 /mnt/1 2 3 4%\n")
        // No capacity column after three counts: no line, never a guess.
        let unknown = #"printf 'Filesystem 1024-blocks Used Available Capacity Mounted on\nnone - - - - /x\n'"#
        #expect(try run(FreeDisk.script("x"), fakeDF: unknown) == "")
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
