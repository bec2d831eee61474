import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """One audit chain per organization: the head row gets the key of its chain. An existing installation has at
    most one head row (the old single chain), which becomes the "global" chain until 0003 re-chains the events."""

    dependencies = [
        ('common', '0001_initial'),
        ('orgs', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditchainhead',
            name='chain',
            field=models.CharField(default='global', max_length=32, unique=True),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='auditchainhead',
            name='organization',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='orgs.organization'),
        ),
    ]
