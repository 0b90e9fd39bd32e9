#!/usr/bin/perl
# Compares the answers of geosteer and gdnsd to the same ECS queries, for bench/realistic.sh:
# which mirror each puts first, and the ECS SCOPE PREFIX-LENGTH each returns (RFC 7871
# section 7.2.1: the answer is good for every client in client-network/scope, so a narrower
# scope, a longer prefix, means more cache entries in resolvers for the same answers).
#
# Usage: scope-compare.pl --networks LIST --geosteer DIG.out --gdnsd DIG.out
#          --mirrors ADDRESS=ID,... [--db NESTED.mmdb] [--label TEXT] [--show N]
# LIST has one network a line; each DIG.out is the output of `dig -f` with one query a
# line for those networks, in the same order. With --db, the first --show disagreements
# are listed with where the database puts the network.
use strict;
use warnings;

use Getopt::Long qw(GetOptions);

my %opt = (show => 5, label => '');
GetOptions(\%opt, 'networks=s', 'geosteer=s', 'gdnsd=s', 'mirrors=s', 'db=s', 'label=s',
    'show=i')
    or die "usage: $0 --networks LIST --geosteer DIG.out --gdnsd DIG.out --mirrors A=ID,...\n";
for (qw(networks geosteer gdnsd mirrors)) { defined $opt{$_} or die "$0: --$_ is required\n" }

my %mirror_of = map { split /=/, $_, 2 } split /,/, $opt{mirrors};
my @networks = read_lines($opt{networks});
my @geosteer = parse_dig($opt{geosteer});
my @gdnsd    = parse_dig($opt{gdnsd});
@geosteer == @networks && @gdnsd == @networks
    or die sprintf("%s: %d networks but %d geosteer and %d gdnsd answers\n", $0,
    scalar @networks, scalar @geosteer, scalar @gdnsd);

my $db;
if (defined $opt{db}) {
    require MaxMind::DB::Reader;
    $db = MaxMind::DB::Reader->new(file => $opt{db});
}

my ($same, $both, $narrower, $wider, $equal, $sum_gs, $sum_gd, $scoped) = (0) x 8;
my (%pairs, @disagreements, %no_answer, %beyond_source);
for my $i (0 .. $#networks) {
    my ($gs, $gd) = ($geosteer[$i], $gdnsd[$i]);
    $no_answer{geosteer}++ unless defined $gs->{first};
    $no_answer{gdnsd}++    unless defined $gd->{first};
    if (defined $gs->{first} && defined $gd->{first}) {
        $both++;
        my ($a, $b) = map { $mirror_of{$_} // $_ } $gs->{first}, $gd->{first};
        if ($a eq $b) { $same++ }
        else {
            $pairs{"$a/$b"}++;
            push @disagreements, [$networks[$i], $a, $b];
        }
    }
    if (defined $gs->{scope} && defined $gd->{scope}) {
        $scoped++;
        $sum_gs += $gs->{scope};
        $sum_gd += $gd->{scope};
        my ($source) = $networks[$i] =~ m{/(\d+)$};
        $beyond_source{geosteer}++ if $gs->{scope} > $source;
        $beyond_source{gdnsd}++    if $gd->{scope} > $source;
        if    ($gs->{scope} > $gd->{scope}) { $narrower++ }
        elsif ($gs->{scope} < $gd->{scope}) { $wider++ }
        else                                { $equal++ }
    }
}

my $label = $opt{label} ne '' ? "$opt{label}: " : '';
printf "%s%d networks; first mirror the same for %d of %d answered by both (%.1f%%)\n",
    $label, scalar @networks, $same, $both, $both ? 100 * $same / $both : 0;
printf "  no answer: geosteer %d, gdnsd %d\n", $no_answer{geosteer} // 0, $no_answer{gdnsd} // 0
    if %no_answer;
if ($scoped) {
    printf "  ECS scope, mean prefix length: geosteer /%.1f, gdnsd /%.1f (difference %+.1f bits)\n",
        $sum_gs / $scoped, $sum_gd / $scoped, ($sum_gs - $sum_gd) / $scoped;
    printf "  geosteer's scope narrower (longer) for %d, the same for %d, wider for %d of %d\n",
        $narrower, $equal, $wider, $scoped;
    printf "  scope longer than the query's source prefix (answer for part of the subnet only):"
        . " geosteer %d, gdnsd %d\n", $beyond_source{geosteer} // 0, $beyond_source{gdnsd} // 0;
}
if (%pairs) {
    my @top = (sort { $pairs{$b} <=> $pairs{$a} || $a cmp $b } keys %pairs)[0 .. 4];
    print "  disagreements (geosteer/gdnsd): ",
        join(', ', map {"$_ $pairs{$_}"} grep {defined} @top), "\n";
}
for my $d (@disagreements[0 .. $opt{show} - 1]) {
    last unless defined $d;
    my ($network, $a, $b) = @$d;
    printf "    %-22s geosteer %-10s gdnsd %-10s %s\n", $network, $a, $b, where($network);
}

sub where {
    my ($network) = @_;
    return '' unless $db;
    my ($address) = split m{/}, $network;
    my $r = $db->record_for_address($address) or return '(no record)';
    my $loc = $r->{location} // {};
    return sprintf('%s %s %s (%s, %s)', $r->{continent}{code} // '-', $r->{country}{iso_code} // '-',
        $r->{city}{names}{en} // '-', $loc->{latitude} // '?', $loc->{longitude} // '?');
}

sub read_lines {
    my ($path) = @_;
    open my $in, '<', $path or die "$0: cannot read $path: $!\n";
    chomp(my @lines = <$in>);
    return grep {/\S/} @lines;
}

# One entry per query in dig's output (each begins with its "<<>> DiG" banner): the first
# A or AAAA address of the answer section and the scope of the CLIENT-SUBNET option.
sub parse_dig {
    my ($path) = @_;
    open my $in, '<', $path or die "$0: cannot read $path: $!\n";
    my @out;
    my $section = '';
    while (my $line = <$in>) {
        if ($line =~ /^; <<>> DiG /) { push @out, {}; $section = ''; next }
        next unless @out;
        # A message without QR is no response (a stray echo of the query was seen once).
        if ($line =~ /^;; flags:([^;]*);/) { $out[-1]{ignore} = 1 unless $1 =~ /\bqr\b/; next }
        if ($line =~ /^;; (\w+) SECTION:/) { $section = $1; next }
        if ($line =~ m{^; CLIENT-SUBNET: \S+/\d+/(\d+)}) { $out[-1]{scope} = $1; next }
        if ($section eq 'ANSWER' && !defined $out[-1]{first} && $line =~ /\sIN\s+(?:A|AAAA)\s+(\S+)/) {
            $out[-1]{first} = $1;
        }
    }
    return map { $_->{ignore} ? {} : $_ } @out;
}
