import Basics
import Foundation
import HostState
import SandboxSupport
import Testing

/// The crontab backups' names, listing and pruning, run by this machine's /bin/sh in a directory
/// of the test's own.
struct CrontabBackupsTests {
    @Test func theListingKeepsOnlyBotopsNamesOldestFirst() {
        let listed = CrontabBackups.parseList("""
            12 crontab-20261122T193144.000000001Z.txt
            7 crontab-20261101T000000.000000000Z.txt
            3 crontab-$(reboot).txt
            x crontab-20261123T000000.000000000Z.txt
            5 notes.txt
            """)
        #expect(listed.map(\.name) == ["crontab-20261101T000000.000000000Z.txt", "crontab-20261122T193144.000000001Z.txt"])
        #expect(listed.map(\.bytes) == [7, 12])
    }

    @Test func savingAndPruningKeepTheNewestTwenty() throws {
        let saved = try Self.saveAndPrune()
        #expect(saved.range(of: #"^crontab-\d{8}T\d{6}\.\d{9}Z\.txt$"#, options: .regularExpression) != nil, "\(saved)")
    }

    /// The scripts use POSIX tools only, so the test above passes on a Mac too: run them with a
    /// BSD-like `date` (no `%N`: it prints `N`) and a POSIX `head` (no negative counts) first on
    /// PATH. GNU's `date +%N` and `head -n -20` used to be in them.
    @Test func savingAndPruningNeedOnlyPOSIXTools() throws {
        let tools = FileManager.default.temporaryDirectory.appendingPathComponent("posix-tools-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tools, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tools) }
        let realDate = try #require(["/usr/bin/date", "/bin/date"].first { FileManager.default.isExecutableFile(atPath: $0) })
        let realHead = try #require(["/usr/bin/head", "/bin/head"].first { FileManager.default.isExecutableFile(atPath: $0) })
        let wrappers = [
            // BSD date has no %N and prints the letter.
            "date": "n=$#\nfor a do case $a in +*) a=$(printf '%s' \"$a\" | sed 's/%N/N/g') ;; esac; set -- \"$@\" \"$a\"; done\nshift $n\nexec \(realDate) \"$@\"\n",
            // POSIX head takes a positive count only.
            "head": "for a do case $a in -n-*|-[0-9]*) echo \"head: illegal line count -- $a\" >&2; exit 1 ;; esac; done\nprev=\nfor a do [ \"$prev\" = -n ] && case $a in -*) echo \"head: illegal line count -- $a\" >&2; exit 1 ;; esac; prev=$a; done\nexec \(realHead) \"$@\"\n",
        ]
        for (name, body) in wrappers {
            try writeExecutable("#!/bin/sh\n" + body, to: tools.appendingPathComponent(name).path)
        }
        let saved = try Self.saveAndPrune(pathPrefix: tools.path)
        #expect(saved.range(of: #"^crontab-\d{8}T\d{6}\.000000000Z\.txt$"#, options: .regularExpression) != nil, "\(saved)")
    }

    /// Runs the save and prune scripts over 25 old backups (PATH prefixed by `pathPrefix`), checks
    /// the newest `kept` stay with the one just saved, and returns its name.
    static func saveAndPrune(pathPrefix: String? = nil) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crontab-backups-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for day in 1...25 {
            try Data("old \(day)\n".utf8).write(to: dir.appendingPathComponent(String(format: "crontab-200011%02dT000000.000000000Z.txt", day)))
        }
        try Data("current\n".utf8).write(to: dir.appendingPathComponent(".current"))
        let path = pathPrefix.map { "PATH=\(shellQuote($0)):$PATH; " } ?? ""
        let script = "\(path)dir=\(dir.path); cur=\"$dir/.current\"\n\(CrontabBackups.saveScript.text)\n\(CrontabBackups.pruneScript.text)\necho \"$backup\""
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let saved = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(stderr.isEmpty, "\(stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { CrontabBackups.isBackupName($0) }.sorted()
        #expect(names.count == CrontabBackups.kept)
        #expect(names.last == saved, "the backup just saved is the newest and stays")
        #expect(try String(contentsOf: dir.appendingPathComponent(saved), encoding: .utf8) == "current\n")
        #expect(names.first == "crontab-20001107T000000.000000000Z.txt", "the six oldest went")
        return saved
    }
}
