/// The command of a crontab line as cron and the shell read it: the one parser that decides
/// "this line runs that program", for verify's cron-scheduled check and for `cron install`.
public struct CronCommand: Sendable, Hashable {
    /// The command in crontab syntax (an unescaped `%` starts stdin).
    public let text: String

    public init(_ text: some StringProtocol) {
        self.text = String(text)
    }

    /// The programs its simple commands run (`a && b; c | d`), past variable assignments,
    /// `exec`/`nice`/`nohup`/`env` and a shell with its options (`bash -e x.sh` runs `x.sh`);
    /// `./name` after `cd DIR` is `DIR/name`. Arguments of other programs are never programs, so
    /// a line that only mentions a path (`echo /opt/bot/x.sh`) does not run it.
    public var programs: [String] {
        var result: [String] = []
        var directory: String?
        for words in simpleCommands() {
            guard let program = Self.program(of: words) else { continue }
            if program.word == "cd" {
                directory = program.arguments.first.flatMap { $0.hasPrefix("/") ? Self.normalized($0) : nil }
            } else if program.word.hasPrefix("./"), let directory {
                result.append(directory + "/" + program.word.dropFirst(2))
            } else {
                result.append(program.word)
            }
        }
        return result
    }

    /// True when the command runs `program` (an absolute path) as one of its simple commands.
    public func runs(_ program: String) -> Bool {
        programs.contains(program)
    }

    /// The absolute paths among `programs`: what identifies a job (`cd`, `true` and the like say
    /// nothing about which job a line is).
    public var scripts: Set<String> {
        Set(programs.filter { $0.hasPrefix("/") })
    }

    /// True when both are the same command with the same arguments and redirects, whitespace aside
    /// (`a  >>log` equals `a >> log`; quoting is compared as written).
    public func isSameCommand(as other: CronCommand) -> Bool {
        Self.tokens(text) == Self.tokens(other.text)
    }

    /// The command as cron hands it to the shell: up to the first unescaped `%`, which starts
    /// stdin even inside quotes, with `\%` turned into `%`.
    var shellCommand: String {
        var result = ""
        var escaped = false
        for character in text {
            if escaped {
                result.append(contentsOf: character == "%" ? "%" : "\\\(character)")
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "%" {
                return result
            } else {
                result.append(character)
            }
        }
        return escaped ? result + "\\" : result
    }

    /// `shellCommand` cut into simple commands of words, quotes removed; a `#` starting a word
    /// comments out the rest. None when the shell refuses the command (an open quote, backquote or
    /// parenthesis, as cron's `%` cut of `$(date +%F)` leaves): `sh -c` then runs none of it.
    func simpleCommands() -> [[String]] {
        var commands: [[String]] = [[]]
        var word = ""
        var quote: Character?
        var escaped = false
        var openParentheses = 0
        var inBackquote = false
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
                if character == "`" && open == "\"" { inBackquote.toggle() }
                if character == open { quote = nil } else { word.append(character) }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == "#" && word.isEmpty {
                break
            } else if character == " " || character == "\t" {
                endWord()
            } else if character == "&", let last = word.last, last == ">" || last == "<" {
                word.append(character)  // `2>&1` duplicates a descriptor; it does not end the command
            } else if ";&|()\n".contains(character) {
                if character == "(" { openParentheses += 1 }
                if character == ")" { openParentheses -= 1 }
                endWord()
                if !commands[commands.count - 1].isEmpty { commands.append([]) }
            } else {
                if character == "`" { inBackquote.toggle() }
                word.append(character)
            }
        }
        endWord()
        guard quote == nil, openParentheses <= 0, !inBackquote else { return [] }
        return commands
    }

    /// Shell tokens as written (quotes kept), with operators (`>>`, `2>&1`, `&&`, `;`) split off
    /// the words they touch, so only whitespace between tokens is ignored.
    static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var word = ""
        var quote: Character?
        var escaped = false
        func end() {
            if !word.isEmpty { tokens.append(word) }
            word = ""
        }
        for character in text {
            if escaped {
                word.append(character)
                escaped = false
            } else if character == "\\" && quote != "'" {
                word.append(character)
                escaped = true
            } else if let open = quote {
                word.append(character)
                if character == open { quote = nil }
            } else if character == "'" || character == "\"" {
                word.append(character)
                quote = character
            } else if character == " " || character == "\t" {
                end()
            } else if "<>;&|()".contains(character) {
                // A file descriptor number written against its redirect belongs to it (`2>`).
                let isDescriptor = "<>".contains(character) && !word.isEmpty && word.allSatisfy(\.isASCIIDigit)
                if !isDescriptor && !(word.last.map { "<>;&|()".contains($0) } ?? false) { end() }
                word.append(character)
            } else {
                if let last = word.last, "<>;&|()".contains(last), !(last == "&" && character.isASCIIDigit && word.count > 1) { end() }
                word.append(character)
            }
        }
        end()
        return tokens
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

    /// `/opt//bot/` → `/opt/bot`.
    private static func normalized(_ path: String) -> String {
        "/" + path.split(separator: "/").joined(separator: "/")
    }
}
