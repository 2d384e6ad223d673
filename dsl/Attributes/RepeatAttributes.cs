// [Repeat(n)] ... [EndRepeat]: writes the layer attributes between them n times; the front ends expand them.
using System;

namespace BnnDsl;

/// <summary>
/// Repeats the layer attributes up to the matching <see cref="EndRepeatAttribute"/> <see cref="Count"/> times, as if
/// they were written out; repeats may nest. The copies keep the source location of the attributes they copy.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class RepeatAttribute(int count) : Attribute
{
    /// <summary>How many times the enclosed layers run (at least 1).</summary>
    public int Count { get; } = count;
}

/// <summary>Closes the innermost open <see cref="RepeatAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class EndRepeatAttribute : Attribute
{
}
