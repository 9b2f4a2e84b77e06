import BotOpsKit
import Checks
import Foundation
import PropertyBased
import Remote
import Testing

/// Text assembled from the pieces a parser cares about (numbers at the edges of Int64 and Double,
/// units, YAML syntax, host-spec punctuation) and arbitrary Latin-1 characters.
func text(from pieces: [String], count: ClosedRange<Int> = 0...12) -> Generator<String, AnySequence<Any>> {
    Gen<String?>.element(of: pieces + ["\u{0}", "\u{7F}", "é", "🙂"]).array(of: count).map { $0.compactMap { $0 }.joined() }.eraseToAny()
}

func anyText(from pieces: [String]) -> Generator<String, AnySequence<Any>> {
    Gen<String>.oneOf(text(from: pieces), Gen.latin1.string(of: 0...24).eraseToAny()).eraseToAny()
}

let numberPieces = ["0", "1", "9", "-", "+", ".", "e", "E", "300", "-300", "inf", "nan", "0x1p", "86400", "86401",
                    "9223372036854775807", "9223372036854775808", "99999999999999999999", " ", "_"]

@Suite struct ParserPropertyTests {
    /// --timeout: every input is refused with a reason or becomes a duration botops can wait for.
    @Test func secondsFlagNeverTrapsAndStaysInRange() async {
        await propertyCheck(count: 2000, input: anyText(from: numberPieces + ["s", "ms"])) { input in
            do {
                let duration = try parseSeconds(input)
                #expect(duration >= .milliseconds(1) && duration <= longestTimeLimit, "\(input)")
            } catch {
                #expect(error is InvalidTimeLimit, "\(input): \(error)")
            }
        }
    }

    /// health.timeout and stable_for: a duration of at most a day, or a file:line:key error.
    @Test func configDurationsNeverTrap() async {
        await propertyCheck(count: 2000, input: anyText(from: numberPieces + ["ms", "s", "m", "h", "hs"])) { input in
            let yaml = "host: h\nhealth:\n  timeout: \(input)\n  stable_for: \(input)\n"
            do {
                let config = try BotOpsConfig.parse(yaml)
                #expect(config.health.timeout <= longestTimeLimit && config.health.stableFor <= longestTimeLimit)
            } catch {
                #expect(error is ConfigError, "\(input): \(error)")
            }
        }
    }

    /// Whole files of keys, values and YAML punctuation: loaded, or one ConfigError.
    @Test func configLoaderOnlyThrowsConfigErrors() async {
        let pieces = ["host", "path", "checks", "queries", "health", "timeout", "min_linked_trades", "min_linkage_rate",
                      "database", "container", "services", "compose", "command", "linkage_window", "report_glob",
                      ": ", ":", "\n", "\n  ", "- ", "[", "]", "{", "}", ",", "'", "\"", "&a", "*a", "!!str", "#", "%",
                      "/opt/bot", "..", "1 day", "90%", "1e300", "-1", "100.5", "docker compose", "x; touch /tmp/m", "~", "null"]
        await propertyCheck(count: 3000, input: text(from: pieces + numberPieces, count: 0...40)) { yaml in
            do {
                _ = try BotOpsConfig.parse(yaml)
            } catch {
                #expect(error is ConfigError, "\(yaml.debugDescription): \(error)")
            }
        }
    }

    /// --host: a target with a real port, or a usage error saying why. (Over the sandbox-like
    /// alias config below; random ssh config files are the transport's to test.)
    @Test func hostSpecsNeverTrap() async {
        let specPieces = ["bot", "@", ":", "[", "]", "::1", "127.0.0.1", "host", "alias", "-", ".", "%h", "%%", "~/", "22", "0", "65535", "65536"]
        let config = SSHConfig(text: "Host alias\n  HostName %h.example\n  Port 2222\n  User bot\nHost *\n  ConnectTimeout 5\n")
        await propertyCheck(count: 3000, input: anyText(from: specPieces + numberPieces)) { spec in
            let resolver = SSHTargetResolver(config: config, homeDirectory: "/home/u", localUser: "u", agentSocket: nil)
            do {
                let target = try resolver.resolve(spec)
                #expect((1...65535).contains(target.port), "\(spec)")
            } catch {
                #expect(error is SSHTargetError, "\(spec): \(error)")
            }
        }
    }

    /// --only and --skip: known ids, or all the unknown ones named.
    @Test func checkIDListsNeverTrap() async {
        let pieces = CheckID.allCases.map(\.rawValue) + [",", " ", "bogus", "", "db", "-"]
        await propertyCheck(count: 2000, input: anyText(from: pieces)) { list in
            do {
                let ids = try CheckID.list(list)
                #expect(ids.count <= list.split(separator: ",").count)
            } catch let error as CheckSelectionError {
                #expect(!error.unknown.isEmpty)
            } catch {
                Issue.record("\(list): \(error)")
            }
        }
    }
}
