using TaskSupervision.Internal;

namespace TaskSupervision.Tests;

/// <summary>
/// The key table picks a key's stripe with its own hash (issue 16), not the string's randomized one: every character must
/// move the stripe, and the key shapes services use must spread evenly, or keyed starts from several threads would queue
/// on one stripe's lock.
/// </summary>
public sealed class KeyTableTests
{
    private const int Stripes = 8; // the table's stripe count on a machine of two cores or fewer, and the fewest it has

    [Fact]
    public void StripeHash_EveryCharacterOfTheKeyMovesTheStripe()
    {
        for (int length = 1; length <= 40; length++)
        {
            for (int position = 0; position < length; position++)
            {
                var stripes = new HashSet<int>();
                char[] key = new string('k', length).ToCharArray();
                for (char c = '0'; c < '0' + 64; c++)
                {
                    key[position] = c;
                    stripes.Add(KeyTable.StripeHash(new string(key)) & (Stripes - 1));
                }

                stripes.Should().HaveCountGreaterThanOrEqualTo(6, $"64 keys of length {length} that differ only at index {position} should reach almost every stripe");
            }
        }
    }

    [Theory]
    [InlineData("task:{0}")]
    [InlineData("{0}")]
    [InlineData("tenant-7/order/{0}/invoice")]
    [InlineData("order:{1}")]
    public void StripeHash_CommonKeyShapes_SpreadEvenlyOverTheStripes(string shape)
    {
        const int Keys = 16_000;
        var random = new Random(16); // replayable: the GUIDs are drawn from this seed
        int[] perStripe = new int[Stripes];
        byte[] guid = new byte[16];
        for (int i = 0; i < Keys; i++)
        {
            random.NextBytes(guid);
            string key = string.Format(System.Globalization.CultureInfo.InvariantCulture, shape, i, new Guid(guid));
            perStripe[KeyTable.StripeHash(key) & (Stripes - 1)]++;
        }

        perStripe.Should().OnlyContain(n => n > Keys / Stripes * 0.9 && n < Keys / Stripes * 1.1, $"each stripe should hold about {Keys / Stripes} keys: {string.Join(", ", perStripe)}");
    }
}
