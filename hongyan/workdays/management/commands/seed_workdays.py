from django.core.management.base import BaseCommand

from hongyan.workdays.services import calendar_seed_from_package


class Command(BaseCommand):
    help = "Load official holidays and 调休 days from the installed chinesecalendar package."

    def handle(self, *args, **options):
        written = calendar_seed_from_package()
        self.stdout.write(f"{written} days written / 写入 {written} 天")
