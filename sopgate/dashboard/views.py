from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from sopgate.models import Program
from sopgate.selectors import program_readiness


@login_required
def program_list(request):
    return HttpResponse("SOPGate dashboard (placeholder)")


@login_required
def program_detail(request, code):
    program = get_object_or_404(Program, code=code)
    readiness = program_readiness(program)
    return HttpResponse(f"{program.code}: {readiness.decision}")
