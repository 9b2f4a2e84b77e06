import Foundation
import HostState
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
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crontab-backups-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for day in 1...25 {
            try Data("old \(day)\n".utf8).write(to: dir.appendingPathComponent(String(format: "crontab-200011%02dT000000.000000000Z.txt", day)))
        }
        try Data("current\n".utf8).write(to: dir.appendingPathComponent(".current"))
        let script = "dir=\(dir.path); cur=\"$dir/.current\"\n\(CrontabBackups.saveScript.text)\n\(CrontabBackups.pruneScript.text)\necho \"$backup\""
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let saved = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { CrontabBackups.isBackupName($0) }.sorted()
        #expect(names.count == CrontabBackups.kept)
        #expect(names.last == saved, "the backup just saved is the newest and stays")
        #expect(try String(contentsOf: dir.appendingPathComponent(saved), encoding: .utf8) == "current\n")
        #expect(names.first == "crontab-20001107T000000.000000000Z.txt", "the six oldest went")
    }
}
