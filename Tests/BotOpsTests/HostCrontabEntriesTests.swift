@testable import BotOpsKit
import Foundation
import Testing

/// Recover installs crontab.d as committed at the host's HEAD: the files come from the revision
/// the probe prints, run here in a local repository by /bin/sh.
@Suite struct HostCrontabEntriesTests {
    static let entry = "17 4 * * * /usr/bin/true >> /opt/bot/logs/a.log 2>&1\n"

    /// A commit landing while the probe runs (here: a `git` shell function that commits a second
    /// entry right after HEAD is read) cannot mix revisions: the files are the printed revision's.
    @Test func theFilesComeFromTheRevisionPrinted() throws {
        let repository = FileManager.default.temporaryDirectory.appendingPathComponent("host-crontab-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: repository.appendingPathComponent("crontab.d"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: repository) }
        try Self.entry.write(to: repository.appendingPathComponent("crontab.d/a.cron"), atomically: true, encoding: .utf8)
        _ = try sh("git init -q . && git add -A && git -c user.name=t -c user.email=t@t commit -q -m one", in: repository)
        var config = try BotOpsConfig.parse("host: h\n", file: "botops.yml")
        config.path = repository.path
        let entries = HostCrontabEntries(config: config)
        let moveHead = #"""
            git() {
              command git "$@"; st=$?
              if [ "$1" = rev-parse ] && [ ! -e crontab.d/b.cron ]; then
                cp crontab.d/a.cron crontab.d/b.cron && command git add -A && command git -c user.name=t -c user.email=t@t commit -q -m two
              fi
              return $st
            }
            """#
        let printed = try sh(moveHead + "\n" + entries.command.script.text, in: repository)
        let read = try #require(try entries.parse(printed), "\(printed)")
        let first = try sh("git rev-list --max-parents=0 HEAD", in: repository).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(read.revision == first)
        #expect(read.entries.map(\.name) == ["a"], "\(printed)")
    }

    func sh(_ script: String, in directory: URL) throws -> String {
        try localShellOutput(script, in: directory)
    }
}
