// Splits a command's arguments into positional values, options with a value (-o FILE) and flags (--json).
using System.Globalization;

namespace BnnDsl.Cli;

/// <summary>The arguments after the command name, parsed against the options the command knows.</summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, string> values = new(StringComparer.Ordinal);
    private readonly HashSet<string> flags = new(StringComparer.Ordinal);

    private Arguments(List<string> positional) => Positional = positional;

    /// <summary>The values that are not options, in order.</summary>
    public IReadOnlyList<string> Positional { get; }

    /// <summary>
    /// Parses <paramref name="args"/>: each of <paramref name="valueOptions"/> takes the next argument as its value,
    /// each of <paramref name="flagOptions"/> stands alone; anything else starting with '-' is an error.
    /// </summary>
    /// <exception cref="UsageException">An unknown option, an option without its value, or one given twice.</exception>
    public static Arguments Parse(string[] args, string[] valueOptions, string[] flagOptions)
    {
        var parsed = new Arguments([]);
        var positional = (List<string>)parsed.Positional;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (valueOptions.Contains(arg))
            {
                if (i + 1 >= args.Length)
                    throw new UsageException($"option {arg} needs a value");
                if (!parsed.values.TryAdd(arg, args[++i]))
                    throw new UsageException($"option {arg} is given twice");
            }
            else if (flagOptions.Contains(arg))
            {
                parsed.flags.Add(arg);
            }
            else if (arg.Length > 1 && arg[0] == '-')
            {
                throw new UsageException($"unknown option '{arg}'");
            }
            else
            {
                positional.Add(arg);
            }
        }
        return parsed;
    }

    /// <summary>Whether the flag <paramref name="name"/> was given.</summary>
    public bool Has(string name) => flags.Contains(name);

    /// <summary>The value of option <paramref name="name"/>, or null.</summary>
    public string? Value(string name) => values.TryGetValue(name, out var value) ? value : null;

    /// <summary>The value of option <paramref name="name"/> as a whole number of at least <paramref name="minimum"/>, or <paramref name="fallback"/>.</summary>
    /// <exception cref="UsageException">The value is not such a number.</exception>
    public int Int(string name, int fallback, int minimum)
    {
        if (Value(name) is not { } text)
            return fallback;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < minimum)
            throw new UsageException($"option {name} takes a whole number of at least {minimum}, not '{text}'");
        return value;
    }

    /// <summary>The value of option <paramref name="name"/> as a positive number, or <paramref name="fallback"/>.</summary>
    /// <exception cref="UsageException">The value is not a positive number.</exception>
    public double Positive(string name, double fallback)
    {
        if (Value(name) is not { } text)
            return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value > 0) || !double.IsFinite(value))
            throw new UsageException($"option {name} takes a positive number, not '{text}'");
        return value;
    }
}

/// <summary>A command line that does not match the command's usage; the message says what is wrong.</summary>
internal sealed class UsageException(string message) : Exception(message);
