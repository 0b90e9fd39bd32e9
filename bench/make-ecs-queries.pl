#!/usr/bin/perl
# Writes DNS queries for one name and type (--name, --qtype A by default), each with an
# EDNS Client Subnet option (RFC 7871) for a different random network drawn from located
# address space, for bench/realistic.sh:
#   --out FILE   dnsperf's binary input (dnsperf -B): each message preceded by its length
#                as 2 bytes in network order (RFC 1035 section 4.2.2)
#   --list FILE  the same networks as text, one "address/prefix" a line, in the same order
#
# Where the networks come from (fixed --seed, so the same database gives the same files):
#   IPv4 (--family 4, /24 by default): uniformly random /24s of the global unicast space,
#     kept when the --db database locates their first address (has coordinates for it):
#     address space weighted, the way the located Internet is spread over the world.
#   IPv6 (--family 6, /56 by default): a random sample (reservoir) of the networks of
#     --ipv6-networks (a database whose IPv6 networks to draw from, e.g. DB-IP's own
#     IPv6 file) no longer than the prefix, then a random /56 inside each, kept when --db
#     locates it: network weighted, since address space weighting would pick almost only
#     the few huge allocations.
# Prints how many were drawn per continent to standard error.
#
# The messages: ID 0 (dnsperf overwrites it), no flags (RD clear, as a resolver asks an
# authoritative server), one question, and an OPT record (RFC 6891) with a 1232-byte UDP
# payload and the ECS option: family, SOURCE PREFIX-LENGTH, SCOPE PREFIX-LENGTH 0 and the
# address truncated to the source prefix, in as few bytes as hold it (RFC 7871 section 6).
use strict;
use warnings;

use Getopt::Long qw(GetOptions);
use MaxMind::DB::Reader;
use Math::Int128 qw(uint128_to_net);
use Socket qw(inet_ntop AF_INET6);

my %opt = (family => 4, count => 100_000, seed => 7, name => 'substitutes.guix.example.org',
    qtype => 'A');
GetOptions(\%opt, 'db=s', 'family=i', 'count=i', 'seed=i', 'prefix=i', 'name=s', 'out=s',
    'list=s', 'ipv6-networks=s', 'qtype=s')
    or die "usage: $0 --db NESTED.mmdb [--family 4|6] [--count N] [--seed N] [--prefix N]"
    . " [--name NAME] [--qtype A|AAAA] [--out FILE.bin] [--list FILE.txt] [--ipv6-networks SOURCE.mmdb]\n";
defined $opt{db} or die "$0: --db is required\n";
$opt{family} == 4 || $opt{family} == 6 or die "$0: --family is 4 or 6\n";
$opt{prefix} //= $opt{family} == 4 ? 24 : 56;
$opt{prefix} >= 1 && $opt{prefix} <= ($opt{family} == 4 ? 32 : 64)
    or die "$0: --prefix out of range\n";
defined $opt{out} || defined $opt{list} or die "$0: nothing to write: give --out or --list\n";

my $db = MaxMind::DB::Reader->new(file => $opt{db});
srand($opt{seed});

my %continents;
my @networks = $opt{family} == 4 ? draw_ipv4() : draw_ipv6();
write_files(@networks);
warn sprintf("%s: %d IPv%d /%d networks (seed %d): %s\n", $0, scalar @networks, $opt{family},
    $opt{prefix}, $opt{seed},
    join(' ', map {"$_ $continents{$_}"} sort { $continents{$b} <=> $continents{$a} } keys %continents));

# The continent of a located address, undef when the database has no coordinates for it.
sub located {
    my ($address) = @_;
    my $record = $db->record_for_address($address) or return undef;
    return undef unless defined $record->{location} && defined $record->{location}{latitude};
    return $record->{continent}{code} // '??';
}

sub draw_ipv4 {
    my $bits = $opt{prefix};
    my (@out, %seen);
    my $tries = 0;
    while (@out < $opt{count}) {
        ++$tries < 100 * $opt{count} + 1000 or die "$0: too few located IPv4 networks\n";
        my $n = random_bits($bits) << (32 - $bits);
        next if $seen{$n} || !ipv4_global($n);
        my $address = join '.', unpack 'C4', pack 'N', $n;
        my $continent = located($address) // next;
        $seen{$n} = 1;
        $continents{$continent}++;
        push @out, [$address, pack('N', $n)];
    }
    return @out;
}

# A uniformly random number of $bits bits (up to 64), from 24 bits of rand() at a time
# (rand has 48 bits, a double 53).
sub random_bits {
    my ($bits) = @_;
    my $n = 0;
    while ($bits > 0) {
        my $take = $bits < 24 ? $bits : 24;
        $n = ($n << $take) | int(rand(1 << $take));
        $bits -= $take;
    }
    return $n;
}

# Not in the special-purpose ranges of RFC 6890 and multicast/reserved: what a client
# subnet on the Internet can be.
sub ipv4_global {
    my ($n) = @_;
    my @special = (
        [0x00000000, 8], [0x0A000000, 8], [0x64400000, 10], [0x7F000000, 8], [0xA9FE0000, 16],
        [0xAC100000, 12], [0xC0000000, 24], [0xC0000200, 24], [0xC0586300, 24], [0xC0A80000, 16],
        [0xC6120000, 15], [0xC6336400, 24], [0xCB007100, 24], [0xE0000000, 3],
    );
    for my $s (@special) {
        my $mask = (0xFFFFFFFF << (32 - $s->[1])) & 0xFFFFFFFF;
        return 0 if ($n & $mask) == $s->[0];
    }
    return 1;
}

sub draw_ipv6 {
    defined $opt{'ipv6-networks'} or die "$0: --family 6 needs --ipv6-networks SOURCE.mmdb\n";
    my $source = MaxMind::DB::Reader->new(file => $opt{'ipv6-networks'});
    # Reservoir sampling (Vitter's algorithm R) over the source's networks that can hold
    # a whole /prefix; a fifth more than needed, for those --db does not locate.
    my $want = int($opt{count} * 1.2) + 10;
    my (@reservoir, $seen);
    $source->iterate_search_tree(
        sub {
            my ($ip, $length) = @_;
            return if $length > $opt{prefix};
            my $bytes = uint128_to_net($ip);
            return unless ipv6_global($bytes, $length);
            $seen++;
            if (@reservoir < $want) {
                push @reservoir, [$bytes, $length];
            }
            else {
                my $j = int(rand($seen));
                $reservoir[$j] = [$bytes, $length] if $j < $want;
            }
        }
    );
    my (@out, %seen);
    for my $network (@reservoir) {
        last if @out >= $opt{count};
        my ($bytes, $length) = @$network;
        # The first 64 bits as a number; randomise bits length..prefix-1, clear the rest.
        my ($high, $low) = unpack 'NN', $bytes;
        my $top = ($high << 32) | $low;
        my $free = $opt{prefix} - $length;
        my $random = random_bits($free);
        my $keep = $length == 0 ? 0 : (~0 << (64 - $length)) & ~0;
        my $n = ($top & $keep) | ($random << (64 - $opt{prefix}));
        $n &= (~0 << (64 - $opt{prefix})) & ~0;
        next if $seen{$n}++;
        my $packed = pack('NN', $n >> 32, $n & 0xFFFFFFFF) . ("\0" x 8);
        my $address = inet_ntop(AF_INET6, $packed);
        my $continent = located($address) // next;
        $continents{$continent}++;
        push @out, [$address, $packed];
    }
    @out == $opt{count}
        or die sprintf("%s: only %d located IPv6 networks drawn of %d\n", $0, scalar @out, $opt{count});
    # The reservoir keeps some of the address order of the walk: shuffle (Fisher-Yates).
    for (my $i = $#out; $i > 0; $i--) {
        my $j = int(rand($i + 1));
        @out[$i, $j] = @out[$j, $i];
    }
    return @out;
}

# In 2000::/3 and not documentation (2001:db8::/32), Teredo (2001::/32) or 6to4
# (2002::/16), which MaxMind-layout databases alias to their IPv4 data.
sub ipv6_global {
    my ($bytes, $length) = @_;
    my $first = unpack 'n', $bytes;
    return 0 unless ($first & 0xE000) == 0x2000;
    return 0 if $first == 0x2002;
    if ($first == 0x2001) {
        my $second = unpack 'n', substr($bytes, 2, 2);
        return 0 if $second == 0 || $second == 0x0DB8;
    }
    return 1;
}

sub write_files {
    my @networks = @_;
    my %qtypes = (A => 1, AAAA => 28);
    my $qtype = $qtypes{uc $opt{qtype}} or die "$0: --qtype is A or AAAA\n";
    my $question = join('', map { pack('C', length $_) . $_ } split /\./, $opt{name})
        . "\0" . pack('nn', $qtype, 1);
    my ($bin, $txt);
    if (defined $opt{out}) {
        open $bin, '>:raw', "$opt{out}.tmp" or die "$0: cannot write $opt{out}.tmp: $!\n";
    }
    if (defined $opt{list}) {
        open $txt, '>', "$opt{list}.tmp" or die "$0: cannot write $opt{list}.tmp: $!\n";
    }
    my $address_bytes = int(($opt{prefix} + 7) / 8);
    for my $network (@networks) {
        my ($text, $packed) = @$network;
        print {$txt} "$text/$opt{prefix}\n" if $txt;
        next unless $bin;
        my $ecs = pack('nCC', $opt{family} == 4 ? 1 : 2, $opt{prefix}, 0)
            . substr($packed, 0, $address_bytes);
        my $opt_rr = "\0" . pack('nnNn', 41, 1232, 0, 4 + length $ecs)
            . pack('nn', 8, length $ecs) . $ecs;
        my $message = pack('nnnnnn', 0, 0, 1, 0, 0, 1) . $question . $opt_rr;
        print {$bin} pack('n', length $message) . $message;
    }
    for my $pair ([$bin, $opt{out}], [$txt, $opt{list}]) {
        my ($fh, $path) = @$pair;
        next unless $fh;
        close $fh or die "$0: cannot close $path.tmp: $!\n";
        rename "$path.tmp", $path or die "$0: cannot rename $path.tmp: $!\n";
    }
}
