#!/usr/bin/perl
# callgraph.pl — which external symbols can the functions of some objects reach? Used by the
# invariant checks (INV-1, INV-2, INV-3) to prove, on the compiled objects rather than on the
# sources, that no file-writing or database call is reachable from the message path.
#
#   callgraph.pl --roots NAME[,NAME...] --forbid SYM[,SYM...] [--forbid-prefix P[,P...]] OBJ...
#
# The graph is built from `objdump -dr` (calls, jumps and every relocation in code: a
# function whose address is taken counts as called, which covers callbacks and thread
# entry points) and `objdump -r` of the data sections (function-pointer tables: a function
# that references a data section reaches every function that section points to). Nodes are
# functions (static ones qualified by their object); calls to symbols no object defines are
# the external leaves. Roots: every function defined in an object whose file name is one of
# the NAMEs (e.g. hub.c.o). Over-approximates (it follows every reference), so it can only
# err towards reporting a path that is never taken, never towards missing one.
#
# Prints one line per forbidden symbol reached, with the shortest call chain from a root:
#   REACH fopen: hub_post <- ... (hub.c.o) -> store_write (state.c.o) -> fopen
# then "callgraph: N objects, N functions, N edges, N reached, N forbidden". Exit 1 if any
# forbidden symbol is reachable, 2 on usage errors.
use strict;
use warnings;

my (@roots, %forbid, @prefix, @objs);
while (@ARGV) {
	my $a = shift @ARGV;
	if ($a eq '--roots') { @roots = split /,/, shift @ARGV; }
	elsif ($a eq '--forbid') { $forbid{$_} = 1 for split /,/, shift @ARGV; }
	elsif ($a eq '--forbid-prefix') { @prefix = split /,/, shift @ARGV; }
	else { push @objs, $a; }
}
die "usage: callgraph.pl --roots N,... --forbid S,... OBJ...\n" unless @roots && @objs;

my %is_root_obj = map { $_ => 1 } @roots;
my (%edges, %global_fn, %node_obj);
my ($nfn, $nedge) = (0, 0);

sub add_edge { my ($a, $b) = @_; $edges{$a}{$b} = 1; $nedge++; }

for my $obj (@objs) {
	my $base = $obj; $base =~ s{.*/}{};
	# Symbol table: functions (F) with their section and offset; local (l) or global (g).
	my (%local_fn, %sec_fns, %local_data_sec);
	open(my $t, '-|', 'objdump', '-t', $obj) or die "objdump -t $obj: $!\n";
	while (<$t>) {
		# 0000000000000040 l     F .text	0000000000000052 helper
		next unless /^([0-9a-f]+)\s+(\S)\s+(\S*)\s+(\S+)\s+([0-9a-f]+)\s+(\S+)$/;
		my ($addr, $scope, $flags, $sec, $size, $name) = (hex $1, $2, $3, $4, $5, $6);
		if ($flags =~ /F/) {
			(my $fn = $name) =~ s/\.(cold|part\.\d+|isra\.\d+|constprop\.\d+)(\.\d+)?$//;
			my $node = $scope eq 'l' ? "$base:$fn" : $fn;
			$local_fn{$name} = $node if $scope eq 'l';
			$global_fn{$name} = $node if $scope ne 'l';
			$node_obj{$node} = $base;
			push @{$sec_fns{$sec}}, [$addr, hex($size), $node];
			# a .cold/.part clone belongs to its parent function
			add_edge($node, $scope eq 'l' ? "$base:$fn" : $fn) if $fn ne $name;
			$nfn++;
		} elsif ($scope eq 'l' && $sec ne '*UND*') {
			$local_data_sec{$name} = $sec;
		}
	}
	close $t;
	my $resolve_sym = sub {
		my ($sym) = @_;
		return $local_fn{$sym} if exists $local_fn{$sym};
		return "$base:\@$local_data_sec{$sym}" if exists $local_data_sec{$sym};
		return $sym;            # global: resolved across objects below
	};
	my $resolve_sec = sub {     # (section, offset) -> function node or data-section node
		my ($sec, $off) = @_;
		if (my $fns = $sec_fns{$sec}) {
			for my $cand ($off, $off + 4) {
				for my $f (@$fns) { return $f->[2] if $f->[0] == $cand; }
			}
			for my $f (@$fns) {
				return $f->[2] if $off + 4 >= $f->[0] && $off + 4 < $f->[0] + ($f->[1] || 1);
			}
			return undef;
		}
		return "$base:\@$sec";
	};
	my $target = sub {          # a relocation's symbol expression -> node
		my ($expr) = @_;
		my ($sym, $sign, $hex) = $expr =~ /^([^+\-]+?)(?:([+\-])0x([0-9a-f]+))?$/ or return undef;
		my $add = defined $hex ? hex($hex) * ($sign eq '-' ? -1 : 1) : 0;
		return $resolve_sec->($sym, $add) if $sym =~ /^\./;
		return $resolve_sym->($sym);
	};

	# Code: calls/jumps to local functions and every relocation inside a function.
	open(my $d, '-|', 'objdump', '-dr', '--no-show-raw-insn', $obj) or die "objdump -d $obj: $!\n";
	my $cur;
	while (<$d>) {
		if (/^[0-9a-f]+ <([^>]+)>:$/) {
			(my $fn = $1) =~ s/\.(cold|part\.\d+|isra\.\d+|constprop\.\d+)(\.\d+)?$//;
			$cur = $local_fn{$1} // $local_fn{$fn} // $global_fn{$1} // $global_fn{$fn} // $fn;
			next;
		}
		next unless defined $cur;
		if (/^\s+[0-9a-f]+:\s+R_X86_64_\w+\s+(\S+)/) {
			my $n = $target->($1);
			add_edge($cur, $n) if defined $n && $n ne $cur;
		} elsif (/\s(?:call|jmp)\w*\s+[0-9a-f]+ <([^>+]+)>/) {
			my $n = $local_fn{$1} // $global_fn{$1} // $1;
			add_edge($cur, $n) if $n ne $cur;
		}
	}
	close $d;

	# Data sections: what each one points to (function-pointer tables, callbacks in structs).
	open(my $r, '-|', 'objdump', '-r', $obj) or die "objdump -r $obj: $!\n";
	my $sec;
	while (<$r>) {
		if (/^RELOCATION RECORDS FOR \[\.rela?(\.[^\]]+)\]:/) { $sec = $1; next; }
		next unless defined $sec && $sec !~ /^\.text/ && $sec !~ /^\.(debug|eh_frame|note)/;
		if (/^[0-9a-f]+\s+R_X86_64_\w+\s+(\S+)/) {
			my $n = $target->($1);
			add_edge("$base:\@$sec", $n) if defined $n;
		}
	}
	close $r;
}

# Global data symbols defined in some object: map "sym" to that object's data section node
# (so reaching a global table reaches what it points to).
for my $obj (@objs) {
	my $base = $obj; $base =~ s{.*/}{};
	open(my $t, '-|', 'objdump', '-t', $obj) or die;
	while (<$t>) {
		next unless /^[0-9a-f]+\s+g\s+(\S*)\s+(\S+)\s+[0-9a-f]+\s+(\S+)$/;
		my ($flags, $sec, $name) = ($1, $2, $3);
		next if $flags =~ /F/ || $sec eq '*UND*';
		add_edge($name, "$base:\@$sec");
	}
	close $t;
}

# Breadth-first from every function of the root objects.
my (%parent, @queue);
for my $node (keys %node_obj) {
	next unless $is_root_obj{$node_obj{$node}};
	$parent{$node} = '';
	push @queue, $node;
}
my $nroots = @queue;
print STDERR "ROOT $_\n" for ($ENV{CG_DEBUG} ? @queue : ());
while (@queue) {
	my $n = shift @queue;
	for my $m (sort keys %{$edges{$n} || {}}) {
		next if exists $parent{$m};
		$parent{$m} = $n;
		push @queue, $m;
	}
}

sub chain {
	my ($n) = @_;
	my @c;
	while ($n ne '') {
		my $label = $n;
		$label .= " ($node_obj{$n})" if exists $node_obj{$n} && $n !~ /:/;
		unshift @c, $label;
		$n = $parent{$n};
	}
	return join(' -> ', @c);
}

my @bad;
for my $n (sort keys %parent) {
	next if exists $node_obj{$n} || $n =~ /:\@/;   # our own function or data node
	my $sym = $n; $sym =~ s/\@.*//;                  # fopen@GLIBC_2.2.5
	my $hit = $forbid{$sym};
	for my $p (@prefix) { $hit ||= index($sym, $p) == 0; }
	push @bad, $n if $hit;
}
print "REACH $_: ", chain($_), "\n" for @bad;
printf "callgraph: %d objects, %d functions, %d edges, %d roots, %d reached, %d forbidden\n",
	scalar(@objs), $nfn, $nedge, $nroots, scalar(keys %parent), scalar(@bad);
exit(@bad ? 1 : 0);
