/// One crontab line that schedules a command, split the way cron splits it. Comments, blank
/// lines and environment settings (`MAILTO=…`) are not entries.
struct CronEntry: Sendable, Equatable {
    /// The time fields or `@` keyword as written.
    var scheduleText: String
    /// Nil for `@reboot`, which has no next time.
    var schedule: CronSchedule?
    var command: String

    static func parse(_ line: String) -> CronEntry? {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        guard let first = trimmed.first, first.isNumber || first == "*" || first == "@" else { return nil }
        let words = trimmed.split(maxSplits: first == "@" ? 1 : 5, whereSeparator: { $0 == " " || $0 == "\t" })
        if first == "@" {
            guard words.count == 2 else { return nil }
            let schedule = CronSchedule.keyword(words[0])
            guard schedule != nil || words[0].lowercased() == "@reboot" else { return nil }
            return CronEntry(scheduleText: String(words[0]), schedule: schedule, command: String(words[1]))
        }
        guard words.count == 6, let schedule = CronSchedule.parse(Array(words.prefix(5))) else { return nil }
        return CronEntry(scheduleText: words.prefix(5).joined(separator: " "), schedule: schedule, command: String(words[5]))
    }

    /// True when the command runs `script` (an absolute path): as the command of one of its
    /// simple commands (`a && b; c | d`), after variable assignments, `exec`/`nice`/`nohup`/`env`
    /// and a shell (`bash -e`), or as `./name` after `cd` into the script's directory. A line
    /// that only mentions the path (an assignment, an argument, `/opt/bot.old/…`) does not run it.
    func runs(script: String) -> Bool {
        let directory = script.split(separator: "/").dropLast().joined(separator: "/")
        let name = script.split(separator: "/").last.map(String.init) ?? script
        var inScriptDirectory = false
        for words in simpleCommands() {
            guard let program = Self.program(of: words) else { continue }
            if program.word == script || (inScriptDirectory && (program.word == "./" + name)) {
                return true
            }
            if program.word == "cd", let target = program.arguments.first {
                inScriptDirectory = target.split(separator: "/").joined(separator: "/") == directory
            }
        }
        return false
    }

    /// The command as cron hands it to the shell: up to the first unescaped `%`, which starts
    /// stdin even inside quotes, with `\%` turned into `%`.
    private var shellCommand: String {
        var text = ""
        var escaped = false
        for character in command {
            if escaped {
                text.append(contentsOf: character == "%" ? "%" : "\\\(character)")
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "%" {
                return text
            } else {
                text.append(character)
            }
        }
        return escaped ? text + "\\" : text
    }

    /// `shellCommand` cut into simple commands of words, quotes removed; a `#` starting a word
    /// comments out the rest.
    private func simpleCommands() -> [[String]] {
        var commands: [[String]] = [[]]
        var word = ""
        var quote: Character?
        var escaped = false
        func endWord() {
            if !word.isEmpty { commands[commands.count - 1].append(word) }
            word = ""
        }
        for character in shellCommand {
            if escaped {
                word.append(character)
                escaped = false
            } else if character == "\\" && quote != "'" {
                escaped = true
            } else if let open = quote {
                if character == open { quote = nil } else { word.append(character) }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == "#" && word.isEmpty {
                break
            } else if character == " " || character == "\t" {
                endWord()
            } else if ";&|()\n".contains(character) {
                endWord()
                if !commands[commands.count - 1].isEmpty { commands.append([]) }
            } else {
                word.append(character)
            }
        }
        endWord()
        return commands
    }

    private static let wrappers: Set<String> = ["exec", "nice", "nohup", "env", "command", "/usr/bin/env", "/usr/bin/nice", "/usr/bin/nohup"]
    private static let shells: Set<String> = ["sh", "bash", "dash", "/bin/sh", "/bin/bash", "/bin/dash", "/usr/bin/bash"]

    /// The word a simple command runs, past assignments, wrappers (with their options, such as
    /// `nice -n 10`) and a shell with its options.
    private static func program(of words: [String]) -> (word: String, arguments: ArraySlice<String>)? {
        var rest = words[...]
        var afterWrapper = false
        while let word = rest.first {
            if isAssignment(word) || wrappers.contains(word) || (afterWrapper && (word.hasPrefix("-") || word.allSatisfy(\.isNumber))) {
                afterWrapper = afterWrapper || wrappers.contains(word)
                rest = rest.dropFirst()
            } else if shells.contains(word) {
                rest = rest.dropFirst()
                while let option = rest.first, option.hasPrefix("-") { rest = rest.dropFirst() }
                guard let script = rest.first else { return nil }
                return (script, rest.dropFirst())
            } else {
                return (word, rest.dropFirst())
            }
        }
        return nil
    }

    private static func isAssignment(_ word: String) -> Bool {
        guard let equals = word.firstIndex(of: "="), equals != word.startIndex else { return false }
        return word[..<equals].allSatisfy { $0 == "_" || $0.isLetter || $0.isNumber }
    }
}
